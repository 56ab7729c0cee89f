"""The FHIR R4 server at `/fhir/R4/` (SPEC §11.1): read, search and `Patient/$everything` of the
US Core resources of what the patient's record shows, for apps connected through SMART on FHIR.

resources: the one table (types, their rows, search parameters, includes); params: reading
search values; search: pages by keyset; bundles: the answers; capability: the
CapabilityStatement; views: the routes' functions.
"""
