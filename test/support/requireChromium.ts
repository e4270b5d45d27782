import { accessSync, constants } from 'node:fs';

/**
 * Debian's package; CHROMIUM_PATH names another Chrome or Chromium (Ubuntu, whose Chromium is a
 * snap; macOS; other distributions).
 */
const DEFAULT_CHROMIUM = '/usr/bin/chromium';

/**
 * The Chromium the browser tests drive. Without it the browser test file stops at once with one
 * line naming the install command, as the suite does without jsonnet (requireJsonnet.ts).
 */
export function requireChromium(): string {
  const path = process.env['CHROMIUM_PATH'] ?? DEFAULT_CHROMIUM;
  try {
    accessSync(path, constants.X_OK);
    return path;
  } catch {
    const error = new Error(
      `The browser tests need Chromium at ${path}: sudo apt-get install -y chromium (Debian), or set CHROMIUM_PATH to a Chrome or Chromium (Ubuntu: Google Chrome, /usr/bin/google-chrome).`,
    );
    // One line: the stack would only point here.
    error.stack = error.message;
    throw error;
  }
}
