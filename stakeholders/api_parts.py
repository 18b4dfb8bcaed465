"""The stakeholder engagement API, one module per part of the work, wired by naphs.api_urls."""

from stakeholders import advocacy_api, event_api, launch_api, mapping_api

PARTS = (mapping_api, event_api, advocacy_api, launch_api)
