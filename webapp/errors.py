"""Errors raised by services and views; the API turns them into its envelope, the dashboard into
messages next to the form."""


class AppError(Exception):
    status = 400

    def __init__(self, message: str, details: dict | None = None, *, status: int | None = None,
                 headers: dict | None = None):  # fmt: skip
        super().__init__(message)
        self.message = message
        self.details = details or {}
        self.headers = headers or {}
        if status is not None:
            self.status = status


class Invalid(AppError):
    status = 400


class Unauthorized(AppError):
    status = 401


class Forbidden(AppError):
    status = 403


class NotFound(AppError):
    status = 404

    def __init__(self, resource: str):
        super().__init__(f"{resource} not found")


class Conflict(AppError):
    status = 409


class Unavailable(AppError):
    status = 503
