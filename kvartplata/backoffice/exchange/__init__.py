"""Registry exchange: the onboarding format (docs/registry-format.md), its readers and writers.

`fileformat` defines the sheets and columns, `files` reads and writes workbooks (XLSX) and CSV
sets, `load` checks a whole file and writes it set-based in one transaction, `dump` exports an
organization in the same format, `generate` builds a demo workbook.
"""
