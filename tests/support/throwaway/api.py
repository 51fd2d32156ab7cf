from ninja import Router

router = Router(tags=["throwaway"])


@router.get("/ping")
def ping(request: object) -> dict[str, str]:
    return {"pong": "throwaway"}
