"""The web page for people: static assets shipped in the package, plus its views."""
