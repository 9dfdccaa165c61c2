"""anju: the command-line tool and the native dev-stack supervisor."""
