// Drives mg-tools with the official TypeScript MCP SDK, as desktop clients do, and prints a JSON report.
//
//   node client.mjs plan.json
//
// The plan lists sessions, each over stdio ({"stdio": {"command", "args", "cwd"}}) or streamable HTTP
// ({"http": {"url", "headers"}}), and the calls to make in it. Every session lists the tools first (the
// SDK then checks results against each tool's output schema), then makes its calls in order. A call
// with "confirm_from": "<id>" repeats an earlier call's arguments with the confirm_token read from that
// call's JSON error text. A session with "prompt": {"name", "arguments"} also lists the prompts and gets
// that one. Whatever the SDK returns or throws is recorded, so the report shows what a
// client would show; the script itself only fails when the plan cannot be read.

import { readFileSync } from 'node:fs';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

// Read from disk: the package's exports map its package.json subpath to dist/.
const SDK_VERSION = JSON.parse(
  readFileSync(new URL('./node_modules/@modelcontextprotocol/sdk/package.json', import.meta.url), 'utf8')).version;
const REQUEST_TIMEOUT_MS = 20_000;

function errorOf(error) {
  return { code: error?.code ?? null, message: String(error?.message ?? error) };
}

/** A fetch that records each HTTP exchange (method and status, or how it ended) for the report. */
function recordingFetch(log) {
  return async (url, init = {}) => {
    const entry = { method: init.method ?? 'GET', status: 'pending' };
    log.push(entry);
    try {
      const response = await fetch(url, init);
      entry.status = response.status;
      return response;
    } catch (error) {
      entry.status = error?.name === 'AbortError' ? 'aborted' : `failed: ${error?.message ?? error}`;
      throw error;
    }
  };
}

function transportFor(session, report) {
  if (session.stdio) {
    const { command, args = [], cwd, env } = session.stdio;
    const transport = new StdioClientTransport({ command, args, cwd, env, stderr: 'pipe' });
    report.stderr = '';
    transport.stderr?.on('data', (chunk) => { report.stderr += chunk.toString(); });
    return transport;
  }
  report.http = [];
  const { url, headers = {} } = session.http;
  return new StreamableHTTPClientTransport(new URL(url), {
    requestInit: { headers },
    fetch: recordingFetch(report.http),
  });
}

function argumentsOf(call, results) {
  if (!call.confirm_from) return call.arguments ?? {};
  const asked = results[call.confirm_from];
  const token = JSON.parse(asked.content[0].text).confirm_token;
  const args = structuredClone(call.arguments ?? {});
  args.confirm_token = token; // an argument of the tool called: the operation's own, or call_operation
  return args;
}

async function runSession(session) {
  const report = { protocolVersion: null, tools: [], calls: {}, error: null };
  const transport = transportFor(session, report);
  const setVersion = transport.setProtocolVersion?.bind(transport);
  transport.setProtocolVersion = (version) => {
    report.protocolVersion = version;
    setVersion?.(version);
  };
  const client = new Client({ name: 'mg-tools-ts-check', version: '1.0.0' });
  const results = {};
  try {
    await client.connect(transport, { timeout: REQUEST_TIMEOUT_MS });
    report.serverInfo = client.getServerVersion();
    report.instructions = client.getInstructions() ?? null;
    const listed = await client.listTools(undefined, { timeout: REQUEST_TIMEOUT_MS });
    report.tools = listed.tools.map((tool) => tool.name);
    report.outputSchemas = Object.fromEntries(
      listed.tools.filter((tool) => tool.outputSchema).map((tool) => [tool.name, tool.outputSchema]));
    if (session.prompt) {
      const prompts = await client.listPrompts(undefined, { timeout: REQUEST_TIMEOUT_MS });
      report.prompts = prompts.prompts.map((prompt) => prompt.name);
      const got = await client.getPrompt(session.prompt, { timeout: REQUEST_TIMEOUT_MS });
      report.prompt = got.messages.map((message) => message.content.text).join('\n');
    }
    for (const call of session.calls) {
      try {
        const args = argumentsOf(call, results);
        const result = await client.callTool({ name: call.tool, arguments: args }, undefined,
          { timeout: REQUEST_TIMEOUT_MS });
        results[call.id] = result;
        report.calls[call.id] = {
          isError: result.isError ?? false,
          text: result.content?.filter((part) => part.type === 'text').map((part) => part.text).join('\n') ?? '',
          structuredContent: result.structuredContent ?? null,
        };
      } catch (error) {
        report.calls[call.id] = { thrown: errorOf(error) };
      }
    }
  } catch (error) {
    report.error = errorOf(error);
  } finally {
    await client.close().catch(() => {});
  }
  return report;
}

const plan = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const reports = await Promise.all(plan.sessions.map(runSession));
const sessions = Object.fromEntries(plan.sessions.map((session, i) => [session.name, reports[i]]));
process.stdout.write(JSON.stringify({ sdk: SDK_VERSION, node: process.version, sessions }, null, 2) + '\n');
