"""`payportal`: the operator's command line (bin/payportal). Run from the repository, never shipped to Lambda."""
