"""Schemas of the live feature (the stream's snapshot is documented in ``app.live.service``)."""

from pydantic import BaseModel, ConfigDict


class ReleaseRead(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"round_id": 3, "election_id": 1, "released": True}]}
    )

    round_id: int
    election_id: int
    released: bool
