import { parseArgs, type ParseArgsConfig } from 'node:util';

type Options = NonNullable<ParseArgsConfig['options']>;

export interface CommandSpec {
  /** How the command names itself in errors, e.g. `reconcile`. */
  name: string;
  /** Printed by `--help`; its first line, `usage: ...`, also follows every usage error. */
  usage: string;
  /** The options besides `-h, --help`. */
  options: Options;
  /** How many positional arguments the command takes (none when absent). */
  maxPositionals?: number;
}

export interface CommandLine {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

/** A wrong argument: the message names it; the command exits 2 with the usage line. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/**
 * Reads the arguments leniently and then judges each one, so that an error names the argument
 * (node's strict mode phrases unknown options as advice about positionals).
 */
function readCommandLine(spec: CommandSpec, args: string[]): CommandLine | 'help' {
  const options: Options = { ...spec.options, help: { type: 'boolean', short: 'h' } };
  const { values, positionals, tokens } = parseArgs({
    args,
    options,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  let positionalCount = 0;
  for (const token of tokens) {
    if (token.kind === 'positional' && (positionalCount += 1) > (spec.maxPositionals ?? 0)) {
      throw new UsageError(`unexpected argument ${token.value}`);
    }
    if (token.kind !== 'option') continue;
    const option = options[token.name];
    if (option === undefined) throw new UsageError(`unknown option ${token.rawName}`);
    if (option.type === 'string' && token.value === undefined) throw new UsageError(`${token.rawName} needs a value`);
    if (option.type === 'boolean' && token.inlineValue) throw new UsageError(`${token.rawName} takes no value`);
  }
  if (values['help'] === true) return 'help';
  return { values: values as CommandLine['values'], positionals };
}

/**
 * Runs a command-line program: `--help` prints the usage on stdout (exit 0), a wrong argument is
 * named on stderr (exit 2), otherwise `main`'s result is the exit status. Sets `process.exitCode`
 * instead of exiting, so output written to a pipe is not cut off.
 */
export async function runCommand(
  spec: CommandSpec,
  main: (commandLine: CommandLine) => Promise<number>,
  args: string[] = process.argv.slice(2),
): Promise<void> {
  try {
    const commandLine = readCommandLine(spec, args);
    if (commandLine === 'help') {
      process.stdout.write(spec.usage);
      process.exitCode = 0;
      return;
    }
    process.exitCode = await main(commandLine);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    const usageLine = spec.usage.split('\n')[0] ?? '';
    process.stderr.write(`${spec.name}: ${error.message}\n${usageLine}\nRun it with --help for more.\n`);
    process.exitCode = 2;
  }
}

/** Whether `ready` (a database's migrations, say) resolved within `ms`; false when it failed or took longer. */
export async function readyWithin(ready: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([
      ready.then(
        () => true,
        () => false,
      ),
      late,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
