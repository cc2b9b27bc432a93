"""Exit codes of the ``immunopet`` command line, which scripts can rely on."""

EXIT_OK = 0  #: everything asked for was done
EXIT_PARTIAL = 1  #: the job ran, but some items (scans, VOIs) failed; they are listed and recorded
EXIT_USAGE = 2  #: the command line itself was wrong (unknown option, missing argument)
EXIT_INPUT = 3  #: the input cannot be used (an ImmunoPETError: file, attribute and fix are printed)
EXIT_INTERNAL = 4  #: an unexpected internal error (a bug): one line is printed; rerun with --verbose for details
