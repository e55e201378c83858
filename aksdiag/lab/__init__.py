"""The lab: loopback worlds for `aksdiag demo`, `aksdiag lab` and the tests. Never sends off loopback."""
