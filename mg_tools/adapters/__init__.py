"""The toolkit's operations as native tools of Python agent frameworks, and as plain tool definitions.

- :func:`mg_tools.adapters.langchain.langchain_tools` (extra ``langchain``): LangChain ``StructuredTool``\\ s.
- :func:`mg_tools.adapters.openai_agents.openai_agents_tools` (extra ``openai-agents``): OpenAI Agents SDK
  ``FunctionTool``\\ s.
- :func:`mg_tools.adapters.pydantic_ai.pydantic_ai_tools` (extra ``pydantic-ai``): pydantic-ai ``Tool``\\ s.
- :func:`mg_tools.adapters.plain.openai_tools` / :func:`~mg_tools.adapters.plain.anthropic_tools`: the
  definitions as the OpenAI and Anthropic APIs take them (no extra needed).

Each offers what the toolkit's policy exposes to the caller in progress, under the names, descriptions
and input schemas the MCP server uses, and runs every call through :meth:`Toolkit.execute
<mg_tools.toolkit.Toolkit.execute>`: validation, policy, confirmation and the audit trail hold as they do
everywhere else. Answers are the same JSON as over MCP; errors a model can act on (invalid arguments, a
refusal, a confirmation to ask for, Mailgun's answer) reach the model in the framework's own way, and do
not end the run.
"""
