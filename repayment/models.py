"""Promises to pay, repayment plans and payments. Models arrive with the repayment issue."""
