from django.test import Client


def test_healthz_answers_ok(db: None) -> None:
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_is_ready_on_a_migrated_database(db: None) -> None:
    response = Client().get("/readyz")
    assert response.status_code == 200, response.content


def test_live_server_serves_health(live_demo) -> None:
    import requests

    response = requests.get(f"{live_demo.url}/healthz", timeout=5)
    assert response.status_code == 200
    assert response.headers["X-Request-Id"]
