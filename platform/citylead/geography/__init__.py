"""Geography per county (辖区地理): streets and towns, communities, unit grids, and the locator.

Modules: ``models`` (tables), ``codes`` (code rules), ``validation`` and ``spatial`` (the checks
of an import), ``importer`` (replace a county's geography), ``index`` (the in-process spatial
index), ``service`` (reads), ``demo`` (generated demo grids). See docs/geography.md.
Nothing is imported here, so ``citylead.db.models`` can import the tables without the rest.
"""
