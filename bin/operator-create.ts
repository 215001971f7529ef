/**
 * `npm run operator:create -- --name <name> [--url http://127.0.0.1:3000]`: creates the first
 * admin operator of a running server (operators.bootstrap), with the server's ADMIN_TOKEN from the
 * environment and the password from OPERATOR_PASSWORD or typed at a prompt that does not echo it.
 * Refused once an admin exists: from then on admins create operators in the console.
 */
import { parseArgs } from 'node:util';
import { TRPCClientError, createTRPCClient, httpLink } from '@trpc/client';
import type { AppRouter } from '../server/trpc/router';
import { MIN_PASSWORD_LENGTH } from '../server/operators/passwords';

/** Reads a line without echoing it at a terminal; piped input is read as its first line. */
async function hiddenLine(question: string): Promise<string> {
  const stdin = process.stdin;
  if (!stdin.isTTY) {
    let text = '';
    for await (const chunk of stdin) text += String(chunk);
    return text.split(/\r?\n/)[0] ?? '';
  }
  process.stderr.write(question);
  stdin.setRawMode(true);
  stdin.setEncoding('utf8');
  stdin.resume();
  return new Promise((resolve, reject) => {
    let value = '';
    const done = (err: Error | null) => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
      if (err) reject(err);
      else resolve(value);
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') return done(null);
        if (ch === '\u0003') return done(new Error('cancelled'));
        value = ch === '\u007f' || ch === '\b' ? value.slice(0, -1) : value + ch;
      }
    };
    stdin.on('data', onData);
  });
}

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { name: { type: 'string' }, url: { type: 'string', default: 'http://127.0.0.1:3000' } } });
  const token = process.env.ADMIN_TOKEN;
  if (!values.name || !token) {
    process.stderr.write('Usage: ADMIN_TOKEN=... npm run operator:create -- --name <name> [--url http://127.0.0.1:3000]\n');
    return 2;
  }
  const password = process.env.OPERATOR_PASSWORD ?? (await hiddenLine(`Password for ${values.name} (${MIN_PASSWORD_LENGTH}+ characters): `));
  const api = createTRPCClient<AppRouter>({ links: [httpLink({ url: `${values.url.replace(/\/$/, '')}/trpc`, headers: { 'x-admin-token': token } })] });
  try {
    const admin = await api.operators.bootstrap.mutate({ name: values.name, password });
    process.stdout.write(`Created admin operator ${admin.name} (${admin.id}). Sign in at ${values.url}/admin\n`);
    return 0;
  } catch (e) {
    process.stderr.write(`${e instanceof TRPCClientError ? e.message : String(e)}\n`);
    return 1;
  }
}

process.exitCode = await main();
