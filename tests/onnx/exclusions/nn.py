"""Excluded node cases (nn): case name -> reason."""
_TRAINING = ("BatchNormalization training_mode=1 (batch statistics, running-mean outputs) is refused with "
             "UnimplementedError at load: netjit imports inference graphs")
EXCLUDED: dict[str, str] = {
    "test_batchnorm_example_training_mode": _TRAINING,
    "test_batchnorm_epsilon_training_mode": _TRAINING,
}
