"""``python -m q4m_fast`` is the ``q4m-fast`` command."""

from .cli import main

raise SystemExit(main())
