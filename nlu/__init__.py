"""Custom NLU components and the rule-based text helpers they use."""
