/** An identifier (email address, username, phone number) as Kratos normalises it: trimmed, lowercased. */
export const normalisedIdentifier = (identifier: string): string => identifier.trim().toLowerCase();
