"""The words people text us, by command and language, as they type them (``commands``
normalises them: case, accents and punctuation do not matter; Polish Ł is L).

Add a language by adding its words to each table (docs/architecture.md, "Adding a language").
"""

from __future__ import annotations

# Commands whose keyword is the whole text (a word more and it is something else).
KEYWORDS: dict[str, dict[str, list[str]]] = {
    "help": {
        "en": ["HELP", "INFO"],
        "es": ["AYUDA", "INFORMACION"],
        "pl": ["POMOC", "INFO"],
        "zh_Hans": ["帮助", "帮忙", "信息"],
        "ar": ["مساعدة", "معلومات"],
    },
    "stop": {  # Twilio's opt-out words (each alone), and their translations
        "en": ["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"],
        "es": ["ALTO", "PARAR", "PARA", "BAJA", "CANCELAR", "DETENER"],
        "pl": ["KONIEC", "WYPISZ", "ANULUJ", "REZYGNUJE"],
        "zh_Hans": ["退订", "停止", "取消"],
        "ar": ["توقف", "إيقاف", "الغاء", "إلغاء"],
    },
    "start": {
        "en": ["START", "UNSTOP"],
        "es": ["INICIAR", "ALTA", "COMENZAR"],
        "pl": ["WZNOW", "ZACZNIJ", "START"],
        "zh_Hans": ["开始", "订阅"],
        "ar": ["ابدأ", "بدء"],
    },
    "status": {
        "en": ["STATUS"],
        "es": ["ESTADO"],
        "pl": ["STAN", "STATUS"],
        "zh_Hans": ["状态"],
        "ar": ["الحالة", "حالة"],
    },
    "confirm": {
        "en": ["CONFIRM"],
        "es": ["CONFIRMAR", "CONFIRMO"],
        "pl": ["POTWIERDZ", "POTWIERDZAM"],
        "zh_Hans": ["确认"],
        "ar": ["تأكيد", "أكد"],
    },
    "camera_on": {
        "en": ["CAMERA ON"],
        "es": ["CAMARA SI"],
        "pl": ["KAMERA TAK"],
        "zh_Hans": ["摄像头 开", "摄像头开"],
        "ar": ["كاميرا نعم", "الكاميرا نعم"],
    },
    "camera_off": {
        "en": ["CAMERA OFF"],
        "es": ["CAMARA NO"],
        "pl": ["KAMERA NIE"],
        "zh_Hans": ["摄像头 关", "摄像头关"],
        "ar": ["كاميرا لا", "الكاميرا لا"],
    },
}

# LANG (and its translations) takes a language, by code or by its own name.
LANG_KEYWORDS = {
    "en": ["LANG", "LANGUAGE"],
    "es": ["IDIOMA"],
    "pl": ["JEZYK"],
    "zh_Hans": ["语言"],
    "ar": ["اللغة", "لغة"],
}
LANGUAGE_NAMES = {
    "EN": "en", "ENGLISH": "en", "INGLES": "en",
    "ES": "es", "ESPANOL": "es", "SPANISH": "es",
    "PL": "pl", "POLSKI": "pl", "POLISH": "pl",
    "ZH": "zh_Hans", "中文": "zh_Hans", "简体中文": "zh_Hans", "汉语": "zh_Hans",
    "CHINESE": "zh_Hans",
    "AR": "ar", "العربية": "ar", "عربي": "ar", "ARABIC": "ar",
}  # fmt: skip

# The answers to a footage request: the word, then the request's code ("YES 4821"). The same
# word alone (or followed by anything but a code) asks for the code while requests are open.
ANSWERS: dict[str, dict[str, list[str]]] = {
    "answer_yes": {
        "en": ["YES", "Y", "YEP", "OK"],
        "es": ["SI", "VALE"],
        "pl": ["TAK"],
        "zh_Hans": ["是", "同意", "好"],
        "ar": ["نعم", "موافق"],
    },
    "answer_no": {
        "en": ["NO", "N", "NOPE"],
        "es": ["NO"],
        "pl": ["NIE"],
        "zh_Hans": ["否", "不同意", "不"],
        "ar": ["لا", "كلا"],
    },
}

# Opt-out words that mean STOP anywhere in a short text ("stop texting me", "please stop",
# "no stop", "STOP ALL", "opt out"), not only alone.
OPT_OUT_WORDS: dict[str, list[str]] = {
    "en": ["STOP", "STOPALL", "UNSUBSCRIBE", "OPTOUT", "OPT OUT", "REVOKE"],
    "es": ["ALTO", "PARAR", "BAJA", "CANCELAR", "DETENER", "DEJEN DE"],
    "pl": ["WYPISZ", "STOP", "PRZESTANCIE", "REZYGNUJE", "KONIEC"],
    "zh_Hans": ["退订", "取消", "停止", "别发", "不要发"],
    "ar": ["توقف", "إيقاف", "الغاء", "إلغاء", "أوقف"],
}
SHORT_TEXT = 6  # words: longer texts are read for emergencies and commands, not opt-outs

# Words and phrases that open or join an emergency session wherever they are in a text, with
# their common inflections. Latin-script ones match whole words; Chinese and Arabic ones match
# anywhere in a word (Chinese has no spaces; Arabic glues "the", "and" and "for" to nouns).
EMERGENCY: dict[str, list[str]] = {
    "en": [
        "911", "SOS", "EMERGENCY", "EMERGENCIES", "HELP ME", "HELP US", "SEND HELP",
        "NEED HELP", "AMBULANCE", "FIRE", "POLICE", "COPS", "MAYDAY",
    ],
    "es": [
        "EMERGENCIA", "EMERGENCIAS", "AUXILIO", "SOCORRO", "AYUDAME", "AYUDENME", "AYUDANOS",
        "NECESITO AYUDA", "AMBULANCIA", "INCENDIO", "FUEGO", "POLICIA", "BOMBEROS",
    ],
    "pl": [
        "POMOCY", "RATUNKU", "RATUJ", "RATUJCIE", "NAGLE", "NAGLY", "NAGLA", "NAGLEGO",
        "POTRZEBUJE POMOCY", "KARETKA", "KARETKE", "KARETKI", "POGOTOWIE", "POZAR", "POZARU",
        "POLICJA", "POLICJE", "POLICJI", "STRAZ POZARNA", "ALARMOWY",
    ],
    "zh_Hans": [
        "紧急", "救命", "帮助我", "帮帮我", "救救我", "救护车", "火灾", "着火", "失火", "报警",
        "警察", "急救",
    ],
    "ar": [
        "طوارئ", "نجدة", "ساعدني", "ساعدوني", "أنقذوني", "انقذني", "احتاج مساعدة",
        "اسعاف", "حريق", "شرطة", "الشرطه",
    ],
}  # fmt: skip
EMERGENCY_SYMBOLS = ("🆘", "🚨", "🚑", "🚒", "🚓")

# For a text we cannot read: words that tell its language, where its letters do not.
LANGUAGE_HINTS: dict[str, list[str]] = {
    "es": [
        "HOLA", "GRACIAS", "POR FAVOR", "QUE", "QUIERO", "NECESITO", "COMO", "ESTA", "ESTOY",
        "PARA", "DONDE", "BUENOS", "DIAS", "TENGO", "PUEDO", "AQUI", "SENOR", "USTED", "EL",
        "LA", "LOS", "LAS", "UNA", "MI", "ES",
    ],
    "pl": [
        "CZESC", "DZIEKUJE", "PROSZE", "JAK", "JEST", "DZIEN", "DOBRY", "GDZIE", "CHCE",
        "MOGE", "TUTAJ", "PAN", "PANI", "JESTEM", "NIE WIEM",
    ],
}  # fmt: skip
