"""Registry exchange: the onboarding format (docs/registry-format.md), its readers and writers.

It writes every app's rows (registry, meters and readings, the ledger's opening balances), so
it stands in the back office, above them. `fileformat` defines the sheets and columns, `files`
streams workbooks (XLSX) and CSV sets and writes them, `load` checks a file and writes it
set-based in one transaction, `dump` exports an organization in the same format, `generate`
builds a workbook for the demo, the benchmark and the tests, `jobs` runs uploads on the queue.
"""
