"""Settings of the station service (environment variables ``ANJU_STATION_*``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from anju_station.application.desk import ServiceType
from eventkit.settings import ServiceSettings

CATALOGUE: dict[str, ServiceType] = {
    "public_rental_application": ServiceType(name="公租房申请登记", handoff_days=20),
    "residence_certificate": ServiceType(name="居住证明开具", handoff_days=3),
    "low_income_certification": ServiceType(name="低保认定", handoff_days=30),
    "employment_information": ServiceType(name="就业信息", handoff_days=10),
    "elderly_window_bill_help": ServiceType(name="老年人服务专窗代缴", handoff_days=1),
}
"""The services every community's desk offers; ``ANJU_STATION_CATALOGUE`` (JSON) adds more."""


class StationSettings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="ANJU_STATION_", env_nested_delimiter="__", extra="ignore"
    )

    service: str = "station"
    port: int = Field(default=8105, ge=1, le=65535)
    public_url: str = Field(
        default="http://localhost:8105",
        description="The station's address as the public reaches it: residence certificates "
        "print {public_url}/public/certificates/{number} for checking them",
    )
    catalogue: dict[str, ServiceType] = Field(
        default_factory=dict,
        description='More services, by code: {"housing_repair": {"name": "住房维修", "handoff_days": 7}}',
    )

    @property
    def services(self) -> dict[str, ServiceType]:
        return {**CATALOGUE, **self.catalogue}
