"""Clients for the outside world (KIS, economic data), market rules and agent tools."""
