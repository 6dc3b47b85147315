"""Validators for identifiers of the People's Republic of China.

`ric` checks resident identity card numbers, `uscc` unified social credit
codes, `phone` mobile and landline numbers, `postal` postal codes and `region`
GB/T 2260 administrative division codes.
"""
