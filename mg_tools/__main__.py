from mg_tools.cli import main

raise SystemExit(main())
