from berrys_monitoring.cli import main

raise SystemExit(main())
