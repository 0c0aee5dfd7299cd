from kubepy.cli.main import main

raise SystemExit(main())
