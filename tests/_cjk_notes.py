"""Notes in Traditional and Simplified Chinese, English, both mixed, a hub (a list of links) and one
long sectioned note (so chunks carry heading paths): the keyword rows of every column."""

NOTES = {
    "hant.md": "# 提醒\n\n開發時常常先上車後補票：溫柔提醒，不是嚴格執行。\n",
    "hans.md": "# 检查\n\n## 批次\n\n批次检查孤儿提交，然后提醒作者。\n",
    "mixed.md": "# Search notes\n\n## 全文检索\n\nThe engine ranks 中文分词 with bigrams.\n",
    "long.md": "# 长文\n\n" + "".join(f"## 第{i}节 section{i}\n\n" + "词语 words " * 300 + "\n\n"
                                       for i in range(3)),
    "hub.md": "# Index\n\n- [a](hant.md)\n- [b](hans.md)\n- [c](mixed.md)\n",
    "en.md": "# Plain\n\nNothing but English words about ranking and search.\n",
}
