"""One module per page (and its JSON twin under /api), plus media served by catalog id."""
