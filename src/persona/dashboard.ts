/**
 * An inquiry's page in Persona's dashboard, for an operator signed in there (the form Persona's own
 * documentation links inquiries with: `https://app.withpersona.com/dashboard/inquiries/<id>`).
 * The dashboard shows the environment the operator has selected; a sandbox inquiry opens there.
 */
const DASHBOARD_INQUIRIES = 'https://app.withpersona.com/dashboard/inquiries/';

export const inquiryDashboardUrl = (inquiryId: string | null | undefined): string | null =>
  inquiryId == null ? null : `${DASHBOARD_INQUIRIES}${encodeURIComponent(inquiryId)}`;
