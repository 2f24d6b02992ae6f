"""The CDS Hooks shell around the neuroblastoma rules: discovery, services, feedback, audit.

The application factory is ``cds_service.http.app.create_app(settings)``.
"""
