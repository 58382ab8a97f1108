"""Keywords by which hotline summaries and other free text are classified."""

from django.db import migrations

KEYWORDS = {
    "SRHJ01": "占道 摆摊 游商 浮贩 小贩 商贩 出店经营 夜市 摊位",
    "SRHJ02": "堆放 杂物 乱堆 堆积 建筑垃圾 废品",
    "SRHJ03": "乱停 停车 占用车位 僵尸车 堵门",
    "SRHJ04": "卫生 脏乱差 垃圾 蚊虫 鼠 异味 臭 死角 清理 保洁 环卫",
    "SRHJ05": "小广告 广告牌 横幅 牛皮癣",
    "LLDW01": "流浪狗 流浪猫 流浪犬 野狗 野猫 养犬 咬人",
    "ZSRM01": "施工 工地 夜间施工 噪音 噪声",
    "ZSRM02": "扰民 邻居 吵闹 装修 广场舞",
    "ZSRM03": "音响 KTV 酒吧 喇叭 叫卖",
    "WZDJ01": "违建 违章 搭建 私搭乱建 加盖",
    "GGSS01": "路面 坑 塌陷 破损 道路",
    "GGSS02": "路灯 不亮 照明",
    "GGSS03": "井盖 下水道",
    "GGSS04": "健身器材 座椅 设施损坏",
    "LLJF01": "纠纷 矛盾 吵架 漏水",
    "YLFW01": "老人 独居 理发 助餐 助浴 上门服务 行动不便",
    "YLFW02": "补贴 养老金",
    "SCJG01": "无照 无证 经营",
    "SCJG02": "食品 过期 变质 餐馆 卫生许可",
    "SCJG03": "价格 收费 乱收费",
    "WYGL01": "物业 物业费 小区管理",
    "WYGL02": "电梯 困人",
    "AQYH01": "消防通道 消防 堵塞",
    "AQYH02": "燃气 煤气 漏气",
    "HJWR01": "油烟 烧烤",
    "HJWR02": "垃圾分类 垃圾桶",
}


def seed(apps, schema_editor):
    Category = apps.get_model("cases", "Category")
    for code, words in KEYWORDS.items():
        Category.objects.filter(code=code, keywords="").update(keywords=words)


class Migration(migrations.Migration):
    dependencies = [("cases", "0003_other_category")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
