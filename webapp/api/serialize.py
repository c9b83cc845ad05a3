from pydantic import BaseModel


def dump(model: type[BaseModel], obj) -> dict:
    return model.model_validate(obj).model_dump(mode="json")


def dump_many(model: type[BaseModel], objects) -> list[dict]:
    return [dump(model, obj) for obj in objects]
