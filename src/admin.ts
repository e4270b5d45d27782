import { runCommand, UsageError } from './commandLine.js';
import { openCommandContext, readConfiguration, type CommandContext } from './admin/cli/cliContext.js';
import { ADMIN_COMMANDS } from './admin/cli/commands.js';
import { HttpError } from './http/httpError.js';
import { errorFields } from './logger.js';
import { isDependencyFailure } from './http/dependencyFailure.js';

const USAGE = `usage: admin <command> [options]

The admin API's operations from the command line, over the same code and configuration as the
service (the environment and a .env file). Each command takes --help.

  npm run admin -- verification <identity-id> --actor agent-1     from a checkout (compiles first)
  node dist/admin.js verification <identity-id> --actor agent-1   in the container

Commands:
${Object.entries(ADMIN_COMMANDS)
  .map(([name, command]) => `  ${name.padEnd(18)}${command.summary}`)
  .join('\n')}

Exit status: 0 when done, 1 when it failed (the message says why), 2 for a wrong argument.
`;

/** The configuration could not be read; what is wrong is already on stderr. */
class ConfigurationProblem extends Error {}

const [name, ...args] = process.argv.slice(2);
if (name === undefined || name === '--help' || name === '-h') {
  (name === undefined ? process.stderr : process.stdout).write(USAGE);
  process.exitCode = name === undefined ? 2 : 0;
} else if (!Object.hasOwn(ADMIN_COMMANDS, name)) {
  process.stderr.write(
    `admin: unknown command ${name}\n${USAGE.split('\n')[0]}\nRun it with --help for the commands.\n`,
  );
  process.exitCode = 2;
} else {
  const command = ADMIN_COMMANDS[name as keyof typeof ADMIN_COMMANDS] as (typeof ADMIN_COMMANDS)[string];
  let opened: CommandContext | undefined;
  const open = async () => {
    const config = readConfiguration();
    if (config === undefined) throw new ConfigurationProblem();
    opened = await openCommandContext(config);
    if (opened === undefined) throw new ConfigurationProblem();
    // Without DATABASE_URL the running service's per-identity lock lives in its own process.
    if (command.writes && opened.coordination.mode === 'single-instance') {
      process.stderr.write(
        `admin ${name}: single-instance mode (no DATABASE_URL): this command writes beside the running service, ` +
          'outside its per-identity lock; a webhook for the same identity in the same instant could overwrite ' +
          'the change. For routine work prefer the admin API of the running service.\n',
      );
    }
    return opened.context;
  };
  await runCommand(
    command.spec,
    async (commandLine) => {
      try {
        return await command.run(commandLine, open);
      } catch (error) {
        if (error instanceof UsageError) throw error;
        if (error instanceof ConfigurationProblem) return 1;
        const message =
          error instanceof HttpError
            ? `${error.code}: ${error.message}`
            : isDependencyFailure(error)
              ? `${error.message}; try again`
              : `failed: ${JSON.stringify(errorFields(error))}`;
        process.stderr.write(`admin ${name}: ${message}\n`);
        return 1;
      } finally {
        await opened?.coordination.close();
      }
    },
    args,
  );
}
