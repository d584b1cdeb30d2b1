"""The account statement: how an account's money reads to a person (a read model, no writes).

Balances, money movement by month, charges by service with their explanations, services and
tariffs, consumption by month — one implementation shared by the resident's pages (cabinet)
and the office's account desk (backoffice). It reads billing and payments, so it stands on the
floor above them and below both faces.
"""
