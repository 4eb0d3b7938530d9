"""Provisioning the LMS's users from the published HRIS data over SCIM 2.0 (CONTRACT section 5)."""
