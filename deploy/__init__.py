"""Deployment: the local stack (deploy/local), container and k8s files, dashboards."""
