"""The MCP server: `python server.py [options]` is `mg-tools serve [options]`."""

import sys

from mg_tools.cli import main

if __name__ == "__main__":
    sys.exit(main(["serve", *sys.argv[1:]]))
