"""The conflict the matching services raise when the world moved on (an offer taken by someone
else, a call past its deadline); the API answers 409 and pages show the message."""


class MatchConflict(Exception):
    def __init__(self, message: str, *, demand=None, call=None):
        super().__init__(message)
        self.demand = demand
        self.call = call

    def as_dict(self) -> dict:
        out = {"code": "conflict", "message": str(self), "field": None}
        if self.demand is not None:
            out["status"] = self.demand.status
        if self.call is not None:
            out["status"] = self.call.status
        return out
