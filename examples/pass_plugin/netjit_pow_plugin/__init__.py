"""Example netjit pass plugin: strength reduction of small integer powers."""
