"""mg-tools' built-in plugins, one module per Mailgun API area (installed as ``mg_tools_plugins``)."""
