// Console script: filled in below.
