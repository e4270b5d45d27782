import { isIPv4 } from 'node:net';

/**
 * Whether a host name or address stays on this machine: `localhost`, 127.0.0.0/8 (also IPv4-mapped)
 * or ::1, with or without the brackets URLs put around IPv6 addresses.
 */
export function isLoopbackHost(host: string): boolean {
  const name = host
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1')
    .replace(/^::ffff:/, '');
  if (name === 'localhost' || name.endsWith('.localhost') || name === '::1') return true;
  return isIPv4(name) && name.startsWith('127.');
}

/** A plain-http URL that leaves this machine: its traffic (links, cookies) can be read on the way. */
export function isPlainHttpOffMachine(url: string): boolean {
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'http:' && !isLoopbackHost(parsed.hostname);
  } catch {
    return false;
  }
}
