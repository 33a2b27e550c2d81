"""Report sections that gather their own facts (one module each), added to `Facts` by `gather`."""
