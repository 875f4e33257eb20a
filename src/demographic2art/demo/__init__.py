"""Everything the self-contained demo needs: stand-in study data and a local image server."""
