"""Show the workbook's answers in a notebook: a verdict as easy to see when it passes as when it fails."""


def show_verdict(passed: bool, text: str) -> None:
    """Show a check's verdict lines."""
    print(text)
