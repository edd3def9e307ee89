"""The read-paper answer: a proposal the teller confirms or corrects."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class ProposedMark(BaseModel):
    candidate: str
    mark: Literal["yes", "no", "abstain", "blank", "unclear"]
    sure: bool = Field(description="只有毫无疑问时为 true；否则请核对 / true only beyond doubt")


class PaperReadingRead(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "qr": "JP1.7.1.UGQ2DINB.SCO4XQXGH7C2T5MQ",
                    "marks": [
                        {"candidate": "王宁", "mark": "yes", "sure": True},
                        {"candidate": "刘洋", "mark": "blank", "sure": True},
                        {"candidate": "李娜", "mark": "no", "sure": True},
                        {"candidate": "张伟", "mark": "abstain", "sure": False},
                        {"candidate": "欧阳晓东", "mark": "yes", "sure": True},
                    ],
                    "write_ins_filled": [False, False, False],
                    "write_ins_sure": [True, True, True],
                    "unsure": 1,
                    "message_zh": "有 1 处标记需要核对",
                    "message_en": "1 mark(s) to check",
                }
            ]
        }
    )

    qr: str
    marks: list[ProposedMark] = Field(description="按选票顺序 / in ballot order")
    write_ins_filled: list[bool] = Field(description="另选他人栏是否有书写 / write-in box written")
    write_ins_sure: list[bool] = Field(
        description="另选他人栏的识别是否确定；false 须看选票 / false: look at the paper's box"
    )
    unsure: int = Field(description="需要核对的标记数 / marks the teller must check")
    message_zh: str = Field(description="给计票员的提示：标记与另选他人栏 / marks and write-ins")
    message_en: str
