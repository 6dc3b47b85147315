"""Data governance: desensitization operators, policies and k-anonymity."""
