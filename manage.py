#!/usr/bin/env python
from portico.__main__ import main

if __name__ == "__main__":
    main()
