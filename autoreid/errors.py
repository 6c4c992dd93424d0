"""The one exception type for user mistakes: the CLI prints its message as one line, no traceback."""


class UserError(Exception):
    """A bad input (file, parameter, dataset) that the user can fix; the message names it."""
