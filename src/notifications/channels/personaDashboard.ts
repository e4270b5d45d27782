/** Where an inquiry opens in Persona's dashboard, for the people who review it. */
const DASHBOARD_INQUIRIES = 'https://app.withpersona.com/dashboard/inquiries/';

export const personaDashboardLink = (inquiryId: string) => `${DASHBOARD_INQUIRIES}${encodeURIComponent(inquiryId)}`;
